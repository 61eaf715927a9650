from bot.cli.root import main

main()
