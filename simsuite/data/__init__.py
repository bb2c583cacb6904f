"""Data shipped with simsuite: CMS reference files and calibrated defaults (`simsuite.data.reference`)."""
