from litthemes.cli import main

main()
