"""Stage 6, presentation: text tables, matplotlib figures and the self-contained HTML report."""
