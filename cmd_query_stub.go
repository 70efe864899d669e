//go:build !querydraft

package main

// Until source/ and filter/ land, query says it is not built yet.
func runQueryCmd(args []string, io *IO) error {
	return usageError("'kauditui query' is not implemented yet")
}
