package setup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
)

// DefaultKubeconfigDir is where kubeadm writes admin.conf and super-admin.conf.
const DefaultKubeconfigDir = "/etc/kubernetes"

// Credentials names client certificates, so that the people who all appear
// as kubernetes-admin can be told apart: since 1.32 every request carries
// the SHA-256 fingerprint of the certificate it was made with.
type Credentials struct {
	Paths []string // kubeconfig files or folders of them (*.conf, *.kubeconfig, config)
	Node  string   // this node's kubeconfig folder; "" = DefaultKubeconfigDir (tests set another)
}

func onThisNode(base string) string { return base + " on this node" }

// Names reads the kubeconfigs and returns the names of their certificates,
// by fingerprint (for audit.SetCredentialNames); a path the user named that
// gives nothing is a warning, this node's folder missing (not a master, not
// root) is not.
func (c *Credentials) Names(warn func(string)) map[string]string {
	node := c.Node
	if node == "" {
		node = DefaultKubeconfigDir
	}
	names := map[string]string{}
	readCredDir(node, names, onThisNode, nil)
	for _, p := range c.Paths {
		n := len(names)
		var err error
		st, serr := os.Stat(p)
		if serr != nil {
			warn("--kubeconfig-dir " + p + ": no such file or folder (name a kubeconfig, or a folder of them)")
			continue
		}
		if st.IsDir() {
			err = readCredDir(p, names, func(base string) string { return filepath.Join(p, base) }, warn)
		} else {
			err = readCredFile(p, p, names)
		}
		switch {
		case err != nil:
			warn("--kubeconfig-dir " + err.Error())
		case len(names) == n:
			warn("--kubeconfig-dir " + p + ": no client certificate found (kubeconfigs with client-certificate-data or client-certificate)")
		}
	}
	return names
}

// readCredDir reads the kubeconfigs of a folder (not its subfolders).
func readCredDir(dir string, names map[string]string, label func(base string) string, warn func(string)) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		base := e.Name()
		if e.IsDir() || !(strings.HasSuffix(base, ".conf") || strings.HasSuffix(base, ".kubeconfig") || base == "config") {
			continue
		}
		if err := readCredFile(filepath.Join(dir, base), label(base), names); err != nil && warn != nil {
			warn("--kubeconfig-dir " + err.Error())
		}
	}
	return nil
}

// readCredFile adds the fingerprints of the client certificates of one
// kubeconfig under label (with the user's name when it has several).
func readCredFile(path, label string, names map[string]string) error {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return errors.New(path + ": permission denied (run as root to read it)")
		}
		return errors.New(path + ": not a kubeconfig: " + firstCredLine(err.Error()))
	}
	users := make([]string, 0, len(cfg.AuthInfos))
	for u := range cfg.AuthInfos {
		users = append(users, u)
	}
	slices.Sort(users)
	var fps, who []string
	for _, u := range users {
		a := cfg.AuthInfos[u]
		data := a.ClientCertificateData
		if len(data) == 0 && a.ClientCertificate != "" {
			p := a.ClientCertificate
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(path), p)
			}
			if data, err = os.ReadFile(p); err != nil {
				continue // kubelet.conf's certificate may be root's only
			}
		}
		if fp := certFingerprint(data); fp != "" {
			fps, who = append(fps, fp), append(who, u)
		}
	}
	for i, fp := range fps {
		if _, ok := names[fp]; ok {
			continue // the first name found wins: this node's over a copy
		}
		if len(fps) > 1 {
			names[fp] = label + " (user " + who[i] + ")"
		} else {
			names[fp] = label
		}
	}
	return nil
}

// certFingerprint is the SHA-256 of the first certificate in PEM data, in
// lower-case hex as the apiserver writes it after X509SHA256=.
func certFingerprint(data []byte) string {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return ""
		}
		if b.Type == "CERTIFICATE" {
			sum := sha256.Sum256(b.Bytes)
			return hex.EncodeToString(sum[:])
		}
	}
}

func firstCredLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
