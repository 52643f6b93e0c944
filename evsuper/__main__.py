from evsuper.cli import main

raise SystemExit(main())
