"""To-do lists: what waits for each person, on their home page and in a daily e-mail they can turn off."""
