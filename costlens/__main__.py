import sys

try:
    from costlens.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line is still loading
    sys.stderr.write("costlens: interrupted\n")
    sys.exit(130)

main()
