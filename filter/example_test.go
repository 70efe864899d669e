package filter_test

import (
	"fmt"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

func ExampleParse() {
	f, err := filter.Parse("USER=erin-editor verb=delete resource=deploy", time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	r := audit.NewRequest(audit.Who{User: "erin-editor"}, audit.What{Verb: "delete", APIGroup: "apps", Resource: "deployments"}, "", "", "kubyk-web")
	fmt.Println(f.Match(r), f)

	_, err = filter.Parse("user=erin-editor verb=get code=4x5", time.Now())
	fmt.Println(err)
	// Output:
	// true user=erin-editor verb=delete resource=deploy
	// filter: term 3 "code=4x5" at column 32: expected a status code like 404, 4xx or >=400
}

func ExampleWith() {
	expr := filter.With("verb=delete", "user", "erin-editor", false)
	fmt.Println(expr)
	fmt.Println(filter.With(expr, "ns", "kube-system", true))
	fmt.Println(filter.With(expr, "agent", "kubectl/v1.37 (linux)", false))
	// Output:
	// verb=delete user=erin-editor
	// verb=delete user=erin-editor ns!=kube-system
	// verb=delete user=erin-editor agent="kubectl/v1.37 (linux)"
}
