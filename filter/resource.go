package filter

import "strings"

// resourceNames is the built-in resources of Kubernetes 1.37 as kubectl
// api-resources lists them: plural, then singular and short names. A name
// here resolves to its plural, the form audit events log.
var resourceNames = [][]string{
	{"bindings", "binding"},
	{"componentstatuses", "componentstatus", "cs"},
	{"configmaps", "configmap", "cm"},
	{"endpoints", "ep"},
	{"events", "event", "ev"},
	{"limitranges", "limitrange", "limits"},
	{"namespaces", "namespace", "ns"},
	{"nodes", "node", "no"},
	{"persistentvolumeclaims", "persistentvolumeclaim", "pvc"},
	{"persistentvolumes", "persistentvolume", "pv"},
	{"pods", "pod", "po"},
	{"podtemplates", "podtemplate"},
	{"replicationcontrollers", "replicationcontroller", "rc"},
	{"resourcequotas", "resourcequota", "quota"},
	{"secrets", "secret"},
	{"serviceaccounts", "serviceaccount", "sa"},
	{"services", "service", "svc"},
	{"mutatingwebhookconfigurations", "mutatingwebhookconfiguration"},
	{"validatingwebhookconfigurations", "validatingwebhookconfiguration"},
	{"mutatingadmissionpolicies", "mutatingadmissionpolicy"},
	{"mutatingadmissionpolicybindings", "mutatingadmissionpolicybinding"},
	{"validatingadmissionpolicies", "validatingadmissionpolicy"},
	{"validatingadmissionpolicybindings", "validatingadmissionpolicybinding"},
	{"customresourcedefinitions", "customresourcedefinition", "crd", "crds"},
	{"apiservices", "apiservice"},
	{"controllerrevisions", "controllerrevision"},
	{"daemonsets", "daemonset", "ds"},
	{"deployments", "deployment", "deploy"},
	{"replicasets", "replicaset", "rs"},
	{"statefulsets", "statefulset", "sts"},
	{"selfsubjectreviews", "selfsubjectreview"},
	{"tokenreviews", "tokenreview"},
	{"localsubjectaccessreviews", "localsubjectaccessreview"},
	{"selfsubjectaccessreviews", "selfsubjectaccessreview"},
	{"selfsubjectrulesreviews", "selfsubjectrulesreview"},
	{"subjectaccessreviews", "subjectaccessreview"},
	{"horizontalpodautoscalers", "horizontalpodautoscaler", "hpa"},
	{"cronjobs", "cronjob", "cj"},
	{"jobs", "job"},
	{"certificatesigningrequests", "certificatesigningrequest", "csr"},
	{"clustertrustbundles", "clustertrustbundle"},
	{"podcertificaterequests", "podcertificaterequest"},
	{"leases", "lease"},
	{"leasecandidates", "leasecandidate"},
	{"endpointslices", "endpointslice"},
	{"flowschemas", "flowschema"},
	{"prioritylevelconfigurations", "prioritylevelconfiguration"},
	{"ingressclasses", "ingressclass"},
	{"ingresses", "ingress", "ing"},
	{"ipaddresses", "ipaddress"},
	{"networkpolicies", "networkpolicy", "netpol"},
	{"servicecidrs", "servicecidr"},
	{"runtimeclasses", "runtimeclass"},
	{"poddisruptionbudgets", "poddisruptionbudget", "pdb"},
	{"clusterrolebindings", "clusterrolebinding"},
	{"clusterroles", "clusterrole"},
	{"rolebindings", "rolebinding"},
	{"roles", "role"},
	{"priorityclasses", "priorityclass", "pc"},
	{"csidrivers", "csidriver"},
	{"csinodes", "csinode"},
	{"csistoragecapacities", "csistoragecapacity"},
	{"storageclasses", "storageclass", "sc"},
	{"volumeattachments", "volumeattachment"},
	{"volumeattributesclasses", "volumeattributesclass", "vac"},
	{"deviceclasses", "deviceclass"},
	{"resourceclaims", "resourceclaim"},
	{"resourceclaimtemplates", "resourceclaimtemplate"},
	{"resourceslices", "resourceslice"},
	{"storageversionmigrations", "storageversionmigration"},
}

var resourceAlias = func() map[string]string {
	m := make(map[string]string)
	for _, names := range resourceNames {
		for _, n := range names {
			m[n] = names[0]
		}
	}
	return m
}()

// knownGroups are API groups without a dot in their name; any word with a
// dot is taken as a group too. "core" names the core ("") group.
var knownGroups = map[string]bool{
	"apps": true, "batch": true, "autoscaling": true, "policy": true,
	"extensions": true, "core": true,
}

// resourceCandidates is what a resource word without wildcard may match in
// objectRef.resource: the plural of a known name, or for anything else
// (custom resources) the word itself and its likely plurals.
func resourceCandidates(word string) []string {
	w := lowerASCII(word)
	if p, ok := resourceAlias[w]; ok {
		return []string{p}
	}
	out := []string{w}
	switch {
	case strings.HasSuffix(w, "y") && len(w) > 1:
		out = append(out, w[:len(w)-1]+"ies")
	case strings.HasSuffix(w, "s"), strings.HasSuffix(w, "x"), strings.HasSuffix(w, "ch"), strings.HasSuffix(w, "sh"):
		out = append(out, w+"es")
	}
	if !strings.HasSuffix(w, "s") {
		out = append(out, w+"s")
	}
	return out
}

// isGroupWord reports whether the first of two slash-separated parts names
// an API group (apps/deployments) rather than a resource (deployments/scale).
func isGroupWord(w string) bool {
	w = lowerASCII(w)
	if _, isResource := resourceAlias[w]; isResource {
		return false
	}
	return knownGroups[w] || strings.Contains(w, ".")
}
