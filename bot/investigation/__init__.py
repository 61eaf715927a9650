"""Investigation: recorded incidents, localisation of the faulty service, and its scoring."""
