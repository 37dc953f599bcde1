"""simcore.retention"""
