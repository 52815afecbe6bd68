"""Reports for the municipalities: participation and service to citizens, as HTML, PDF and CSV."""
