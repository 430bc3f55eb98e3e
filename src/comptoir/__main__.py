from comptoir.cli import main

main()
