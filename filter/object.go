package filter

import (
	"fmt"
	"strings"
)

// Object is one Kubernetes object as an operator names it: the explorer's
// prompts and `query --history` read it with ParseObject, so one spelling
// means one object everywhere.
type Object struct {
	Resource  string // as resource= takes it: deploy, apps/deployments; "" when only a name was given
	Namespace string // "" for a cluster-scoped object or when not given
	Name      string
}

// String spells the object the way ParseObject reads it back.
func (o Object) String() string {
	s := o.Name
	if o.Namespace != "" {
		s = o.Namespace + "/" + s
	}
	if group, typ, ok := strings.Cut(o.Resource, "/"); ok {
		s = typ + "." + group + " " + s // kubectl's TYPE.GROUP
	} else if o.Resource != "" {
		s = o.Resource + " " + s
	}
	return s
}

// objectExample is the spelling every refusal offers.
const objectExample = "name one object, e.g. deploy web -n shop or deployments.apps/web -n shop"

// ParseObject reads an object in kubectl's spellings and the two this tool
// has always taken:
//
//	web                         a name alone (any kind)
//	deploy web, deploy/web      TYPE NAME, TYPE/NAME
//	deployments.apps/web        TYPE.GROUP, TYPE.VERSION.GROUP (deployment.v1.apps)
//	deploy web -n shop          -n NS, --namespace NS, -n=NS anywhere
//	deploy shop/web             TYPE NS/NAME (the explorer's prompt)
//	deploy/shop/web             TYPE/NS/NAME (query --history)
//	apps/deployments/web        GROUP/TYPE/NAME (any namespace)
//	apps/deployments/shop/web   GROUP/TYPE/NS/NAME
//
// A spelling that could mean two objects is refused with the one to use
// instead: a question is never silently read as another.
func ParseObject(input string) (Object, error) {
	var o Object
	var words []string
	fields := strings.Fields(input)
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		var ns string
		switch {
		case f == "-n" || f == "--namespace":
			if i+1 >= len(fields) {
				return Object{}, fmt.Errorf("%s needs a namespace: %s", f, objectExample)
			}
			i++
			ns = fields[i]
		case strings.HasPrefix(f, "-n="), strings.HasPrefix(f, "--namespace="):
			_, ns, _ = strings.Cut(f, "=")
		case f == "-A" || f == "--all-namespaces":
			return Object{}, fmt.Errorf("%s: one object is asked for; leave the namespace out to match any", f)
		case strings.HasPrefix(f, "-"):
			return Object{}, fmt.Errorf("%q is not an object or -n NAMESPACE: %s", f, objectExample)
		default:
			words = append(words, f)
			continue
		}
		if !validObjectWord(ns) {
			return Object{}, fmt.Errorf("%q is not a namespace: %s", ns, objectExample)
		}
		if o.Namespace != "" && o.Namespace != ns {
			return Object{}, fmt.Errorf("two namespaces (%s and %s): %s", o.Namespace, ns, objectExample)
		}
		o.Namespace = ns
	}
	var kind, nsName string
	switch len(words) {
	case 1:
		parts := strings.Split(words[0], "/")
		switch len(parts) {
		case 1:
			nsName = parts[0]
		case 2:
			if isGroupWord(parts[0]) && !strings.Contains(parts[0], ".") {
				return Object{}, fmt.Errorf("%q: %s is an API group, not a kind; %s", words[0], parts[0], objectExample)
			}
			kind, nsName = parts[0], parts[1]
		case 3:
			if isGroupWord(parts[0]) && !strings.Contains(parts[0], ".") {
				// apps/deployments/web: GROUP/TYPE/NAME, in any namespace
				// (a group is never a kind, so never TYPE/NS/NAME).
				kind, nsName = parts[0]+"/"+parts[1], parts[2]
				break
			}
			if strings.Contains(parts[0], ".") && !knownTypeWord(parts[0]) {
				return Object{}, fmt.Errorf("%q could be GROUP/TYPE/NAME or TYPE.GROUP/NAMESPACE/NAME: write TYPE.GROUP/NAME -n NAMESPACE", words[0])
			}
			kind, nsName = parts[0], parts[1]+"/"+parts[2]
		case 4:
			if !isGroupWord(parts[0]) {
				return Object{}, fmt.Errorf("%q: %q is not an API group; %s", words[0], parts[0], objectExample)
			}
			kind, nsName = parts[0]+"/"+parts[1], parts[2]+"/"+parts[3]
		default:
			return Object{}, fmt.Errorf("%q is not an object: %s", words[0], objectExample)
		}
	case 2:
		kind, nsName = words[0], words[1]
		if strings.Contains(kind, "/") {
			return Object{}, fmt.Errorf("%q: give the type once, %s", input, objectExample)
		}
	case 0:
		return Object{}, fmt.Errorf("no object given: %s", objectExample)
	default:
		return Object{}, fmt.Errorf("%q is more than one object: %s", input, objectExample)
	}
	if ns, name, ok := strings.Cut(nsName, "/"); ok {
		if o.Namespace != "" && o.Namespace != ns {
			return Object{}, fmt.Errorf("two namespaces (%s and %s): %s", ns, o.Namespace, objectExample)
		}
		o.Namespace, nsName = ns, name
	}
	if !validObjectWord(nsName) || (o.Namespace != "" && !validObjectWord(o.Namespace)) {
		return Object{}, fmt.Errorf("%q is not an object: %s", input, objectExample)
	}
	o.Name = nsName
	if kind != "" {
		res, err := resourceOfType(kind)
		if err != nil {
			return Object{}, err
		}
		o.Resource = res
	}
	return o, nil
}

// resourceOfType turns kubectl's TYPE[.VERSION][.GROUP] (deploy,
// deployments.apps, deployment.v1.apps, apps/deployments) into the form
// resource= takes.
func resourceOfType(kind string) (string, error) {
	if strings.ContainsAny(kind, "*,\"'\\") || strings.HasPrefix(kind, "/") || strings.HasSuffix(kind, "/") {
		return "", fmt.Errorf("%q is not a kind: name one like deploy, cm or deployments.apps", kind)
	}
	if strings.Contains(kind, "/") { // GROUP/TYPE, as resource= takes it
		return kind, nil
	}
	typ, group, dotted := strings.Cut(kind, ".")
	if !dotted {
		return kind, nil
	}
	if typ == "" || group == "" {
		return "", fmt.Errorf("%q is not a kind: name one like deploy, cm or deployments.apps", kind)
	}
	if v, rest, ok := strings.Cut(group, "."); ok && isVersionWord(v) {
		group = rest // deployment.v1.apps
	} else if isVersionWord(group) {
		return typ, nil // pods.v1: the core group
	}
	if group == "core" {
		return typ, nil
	}
	return group + "/" + typ, nil
}

// knownTypeWord reports whether a TYPE.GROUP word starts with a kind
// kubectl knows (deployments.apps), so it is not a group (example.com).
func knownTypeWord(w string) bool {
	typ, _, _ := strings.Cut(lowerASCII(w), ".")
	_, ok := resourceAlias[typ]
	return ok
}

// isVersionWord reports whether w is an API version (v1, v1beta1, v2alpha1).
func isVersionWord(w string) bool {
	if len(w) < 2 || w[0] != 'v' || w[1] < '0' || w[1] > '9' {
		return false
	}
	for _, c := range w[1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// validObjectWord is a name or namespace as far as this tool cares: present,
// one word, no glob characters but '*' (a name glob), no slash.
func validObjectWord(w string) bool {
	return w != "" && !strings.ContainsAny(w, "/,\"'\\ \t")
}
