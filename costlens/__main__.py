from costlens.cli import main

main()
