from respctl.cli import main

main()
