"""The inventory stream, in one package: `events` (each feed's records as events), `positions` (the rule),
`micro_batch` (one batch's steps and writes), `stream` (the declaration the catalogue lists)."""
