import sys

from adtos.cli import main

sys.exit(main())
