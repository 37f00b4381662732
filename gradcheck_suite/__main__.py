"""``python -m gradcheck_suite``: the same as the ``gradcheck-suite`` command."""

from gradcheck_suite.cli import main

raise SystemExit(main())
