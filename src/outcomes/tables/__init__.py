"""The tables' definitions: the columns of ``patients``, ``visits`` and ``outcomes`` and their
pandera schemas, declared once. Above the knowledge base, below the engine."""
