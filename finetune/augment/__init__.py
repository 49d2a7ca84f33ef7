"""Training dialogues for the skills the course data barely teaches (`finetune augment`, issue 18).

Modules: `phrasings` (the wording, phrasings.yaml), `episode` (a dialogue being written, with real tool outcomes),
`scenes` (one function per skill), `guard` (the evaluation lines never to copy), `generate` (the seeded recipes,
the report and the file)."""
