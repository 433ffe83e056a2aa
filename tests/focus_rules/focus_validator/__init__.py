# this import is needed to initialize custom pandera extensions implemented in this package
from focus_validator.rules.checks import *  # noqa
