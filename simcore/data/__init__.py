"""simcore.data"""
