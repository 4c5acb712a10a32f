from muppet.cli import main

raise SystemExit(main())
