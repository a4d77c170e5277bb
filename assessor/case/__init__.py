"""Unit versions served as 1EdTech CASE 1.1 packages, at the binding's REST paths."""
