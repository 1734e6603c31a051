"""``python -m qorm`` runs the ``qorm`` command."""

from qorm.cli import main

raise SystemExit(main())
