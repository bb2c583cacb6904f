"""Tools beside the simulation: exact MSSP settlement of ACO-years from a CSV; the cost-model calibration."""
