package main

// Commands not built yet say so and exit 2 (issue #2's skeleton); each is
// replaced by its own file as its issue lands.
