"""Lambda entry points: a few lines each that wire an event to ``asg_lifecycle``'s decisions."""
