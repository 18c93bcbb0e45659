from wattson.cli import main

main()
