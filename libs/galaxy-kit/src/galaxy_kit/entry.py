"""Imported first by every service's `python -m` entry point, before any other import.

structlog (for its console renderer) and httpx (for its command-line client)
import `rich` and `pygments` whenever they are installed. No service renders
anything with them, and only the development environment has them
(schemathesis brings them for the contract tests; the images install no
development dependencies), where they cost each process about 6 MB resident:
a process run by `make up` or a benchmark carried what the deployed one does
not. Marking them unimportable here sends both libraries down their plain
paths, as in the images. Test processes import the services' modules without
this entry point and keep both for schemathesis.
"""

import sys

for _development_only in ("rich", "pygments"):
    sys.modules.setdefault(_development_only, None)
