import os
import sys

try:
    from costlens.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line is still loading
    sys.stderr.write("costlens: interrupted — files already committed stay whole; run the command again to finish\n")
    sys.stderr.flush()
    os._exit(130)  # not sys.exit: see costlens.cli.main

main()
