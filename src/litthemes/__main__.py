from litthemes.cli import run

run()
