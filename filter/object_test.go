package filter

import (
	"strings"
	"testing"
)

// Every spelling of one object that kubectl or this tool takes reads as
// that object, whichever prompt it is typed into.
func TestParseObjectSpellings(t *testing.T) {
	web := Object{Resource: "deploy", Namespace: "shop", Name: "web"}
	webApps := Object{Resource: "apps/deployments", Namespace: "shop", Name: "web"}
	for in, want := range map[string]Object{
		"deploy web -n shop":                web,
		"deploy -n shop web":                web,
		"-n shop deploy/web":                web,
		"deploy/web --namespace shop":       web,
		"deploy/web --namespace=shop":       web,
		"deploy/web -n=shop":                web,
		"deploy shop/web":                   web,
		"deploy/shop/web":                   web,
		"deploy shop/web -n shop":           web,
		"deployments.apps/web -n shop":      webApps,
		"deployments.apps web -n shop":      webApps,
		"deployment.v1.apps/web -n shop":    {Resource: "apps/deployment", Namespace: "shop", Name: "web"},
		"deployments.apps/shop/web":         webApps,
		"apps/deployments/shop/web":         webApps,
		"pods.v1/p -n kube-system":          {Resource: "pods", Namespace: "kube-system", Name: "p"},
		"widgets.example.com/w":             {Resource: "example.com/widgets", Name: "w"},
		"web":                               {Name: "web"},
		"apps/deployments/web":              {Resource: "apps/deployments", Name: "web"},
		"kubyk-*":                           {Name: "kubyk-*"},
		"clusterrole system:controller:foo": {Resource: "clusterrole", Name: "system:controller:foo"},
		"ns/shop":                           {Resource: "ns", Name: "shop"},
	} {
		got, err := ParseObject(in)
		if err != nil || got != want {
			t.Errorf("ParseObject(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

// A spelling that could be two objects, or is not one, is refused with the
// spelling to use, never read as something else.
func TestParseObjectRefusals(t *testing.T) {
	for in, says := range map[string]string{
		"apps/web":                      "API group",
		"widgets.example.com/shop/w":    "TYPE.GROUP/NAME -n NAMESPACE",
		"deploy shop/web -n prod":       "two namespaces",
		"deploy web -n":                 "needs a namespace",
		"deploy web -A":                 "one object",
		"deploy web extra":              "more than one object",
		"":                              "no object",
		"deploy/web/x/y":                "not an API group",
		"a/b/c/d/e":                     "not an object",
		"deploy web --selector app=web": "not an object or -n",
		"deploy, web":                   "not a kind",
		"deploy/":                       "not an object",
	} {
		_, err := ParseObject(in)
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseObject(%q) error = %v; want one that says %q", in, err, says)
		}
	}
}

// What String prints reads back as the same object.
func TestParseObjectRoundTrip(t *testing.T) {
	for _, in := range []string{"deploy web -n shop", "deployments.apps/web -n shop", "web", "clusterrole admin"} {
		o, err := ParseObject(in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseObject(o.String())
		if err != nil || back != o {
			t.Errorf("%q → %q → %+v, %v", in, o.String(), back, err)
		}
	}
}
