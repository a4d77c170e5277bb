"""Quality assurance: sampling plans, reviews of what is sampled, countersignatures and reports."""
