from checker.cli.main import main

if __name__ == "__main__":  # the check workers' fork server imports this module too
    main()
