from simcore.cli.main import main

main()
