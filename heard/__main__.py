import sys

from heard.cli import main

sys.exit(main())
