package deploy

// Strict decoding of the chart's rendered manifests into the k8s.io/api
// types (unknown or duplicate fields fail, as the API server's strict field
// validation would), then the cross-object checks a client-side dry run does
// not make: selectors that select, probe ports that exist, ConfigMap and
// Secret keys that are there, resources and a non-root user everywhere.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// rendered is one `helm template` output, decoded.
type rendered struct {
	name        string
	deployments []appsv1.Deployment
	services    []corev1.Service
	configMaps  []corev1.ConfigMap
	secrets     []corev1.Secret
	pdbs        []policyv1.PodDisruptionBudget
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// strictDecode decodes one YAML document into out, failing on unknown and
// duplicate fields.
func strictDecode(doc []byte, out interface{}) error {
	return yaml.UnmarshalStrict(doc, out)
}

func loadRendered(path string) (*rendered, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &rendered{name: filepath.Base(path)}
	for i, doc := range docSep.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("%s: document %d: %v", path, i, err)
		}
		want := map[string]string{"Deployment": "apps/v1", "Service": "v1", "ConfigMap": "v1",
			"Secret": "v1", "PodDisruptionBudget": "policy/v1"}[tm.Kind]
		if want == "" {
			return nil, fmt.Errorf("%s: document %d: kind %q is not one the chart should render", path, i, tm.Kind)
		}
		if tm.APIVersion != want {
			return nil, fmt.Errorf("%s: %s has apiVersion %q, want %q", path, tm.Kind, tm.APIVersion, want)
		}
		var derr error
		switch tm.Kind {
		case "Deployment":
			var o appsv1.Deployment
			derr = strictDecode([]byte(doc), &o)
			r.deployments = append(r.deployments, o)
		case "Service":
			var o corev1.Service
			derr = strictDecode([]byte(doc), &o)
			r.services = append(r.services, o)
		case "ConfigMap":
			var o corev1.ConfigMap
			derr = strictDecode([]byte(doc), &o)
			r.configMaps = append(r.configMaps, o)
		case "Secret":
			var o corev1.Secret
			derr = strictDecode([]byte(doc), &o)
			r.secrets = append(r.secrets, o)
		case "PodDisruptionBudget":
			var o policyv1.PodDisruptionBudget
			derr = strictDecode([]byte(doc), &o)
			r.pdbs = append(r.pdbs, o)
		}
		if derr != nil {
			return nil, fmt.Errorf("%s: %s (document %d) does not decode strictly: %v", path, tm.Kind, i, derr)
		}
	}
	return r, nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// renderedFiles lists the *.yaml files in $DEPLOY_MANIFESTS (one per chart
// rendering); the test is skipped only when the variable is unset.
func renderedFiles(t *testing.T) []string {
	dir := os.Getenv("DEPLOY_MANIFESTS")
	if dir == "" {
		t.Skip("DEPLOY_MANIFESTS not set (tests/integration/deploy_helm.sh sets it)")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rendered manifests in %s", dir)
	}
	sort.Strings(files)
	return files
}

func checkName(t *testing.T, where, kind, name string, dns1035 bool) {
	var errs []string
	if dns1035 {
		errs = validation.IsDNS1035Label(name)
	} else {
		errs = validation.IsDNS1123Subdomain(name)
	}
	if len(errs) > 0 {
		t.Errorf("%s: %s name %q: %s", where, kind, name, strings.Join(errs, "; "))
	}
}

func checkLabels(t *testing.T, where string, l map[string]string) {
	for k, v := range l {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			t.Errorf("%s: label key %q: %s", where, k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			t.Errorf("%s: label %s=%q: %s", where, k, v, strings.Join(errs, "; "))
		}
	}
}

func checkResources(t *testing.T, where string, rr corev1.ResourceRequirements) {
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okr := rr.Requests[res]
		lim, okl := rr.Limits[res]
		if !okr || !okl {
			t.Errorf("%s: %s needs both a request and a limit", where, res)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s exceeds its limit %s", where, res, req.String(), lim.String())
		}
		if req.Cmp(resource.MustParse("0")) <= 0 {
			t.Errorf("%s: %s request is zero", where, res)
		}
	}
}

func portNames(c corev1.Container) map[string]int32 {
	m := map[string]int32{}
	for _, p := range c.Ports {
		if p.Name != "" {
			m[p.Name] = p.ContainerPort
		}
	}
	return m
}

func checkProbe(t *testing.T, where string, c corev1.Container, p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.HTTPGet == nil && p.Exec == nil && p.TCPSocket == nil && p.GRPC == nil {
		t.Errorf("%s: probe has no handler", where)
	}
	if p.HTTPGet != nil {
		port := p.HTTPGet.Port
		if port.StrVal != "" {
			if _, ok := portNames(c)[port.StrVal]; !ok {
				t.Errorf("%s: probe port %q is not a named port of container %s", where, port.StrVal, c.Name)
			}
		}
		if !strings.HasPrefix(p.HTTPGet.Path, "/") {
			t.Errorf("%s: probe path %q", where, p.HTTPGet.Path)
		}
	}
}

// TestManifests decodes every rendering strictly and checks the objects
// against each other.
func TestManifests(t *testing.T) {
	external := map[string]bool{}
	for _, s := range strings.Split(os.Getenv("DEPLOY_EXTERNAL_SECRETS"), ",") {
		if s != "" {
			external[s] = true
		}
	}
	for _, f := range renderedFiles(t) {
		r, err := loadRendered(f)
		if err != nil {
			t.Error(err)
			continue
		}
		checkRendered(t, r, external)
	}
}

func checkRendered(t *testing.T, r *rendered, external map[string]bool) {
	cms := map[string]map[string]bool{}
	for _, cm := range r.configMaps {
		checkName(t, r.name, "ConfigMap", cm.Name, false)
		keys := map[string]bool{}
		for k := range cm.Data {
			keys[k] = true
		}
		cms[cm.Name] = keys
	}
	secrets := map[string]map[string]bool{}
	for _, s := range r.secrets {
		checkName(t, r.name, "Secret", s.Name, false)
		keys := map[string]bool{}
		for k := range s.StringData {
			keys[k] = true
		}
		for k := range s.Data {
			keys[k] = true
		}
		for k := range keys {
			if errs := validation.IsEnvVarName(k); len(errs) > 0 {
				t.Errorf("%s: Secret %s key %q is no environment variable name", r.name, s.Name, k)
			}
		}
		secrets[s.Name] = keys
	}
	components := map[string]bool{}
	for _, d := range r.deployments {
		where := fmt.Sprintf("%s: Deployment %s", r.name, d.Name)
		checkName(t, r.name, "Deployment", d.Name, false)
		checkLabels(t, where, d.Labels)
		checkLabels(t, where+" pod", d.Spec.Template.Labels)
		if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels) == 0 {
			t.Errorf("%s: no selector", where)
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: selector %v does not select its own pods %v", where, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas < 1 {
			t.Errorf("%s: replicas unset or zero", where)
		}
		ps := d.Spec.Template.Spec
		if ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot ||
			ps.SecurityContext.RunAsUser == nil || *ps.SecurityContext.RunAsUser == 0 {
			t.Errorf("%s: the pod must run as a non-root numeric user", where)
		}
		if ps.TerminationGracePeriodSeconds == nil || *ps.TerminationGracePeriodSeconds < 10 {
			t.Errorf("%s: tickpipe drains on SIGTERM; give it a grace period of at least 10 s", where)
		}
		vols := map[string]bool{}
		for _, v := range ps.Volumes {
			vols[v.Name] = true
		}
		if len(ps.Containers) != 1 {
			t.Errorf("%s: %d containers, want 1", where, len(ps.Containers))
		}
		for _, c := range ps.Containers {
			cw := where + " container " + c.Name
			if c.Image == "" {
				t.Errorf("%s: no image", cw)
			}
			if len(c.Command) > 0 {
				t.Errorf("%s: sets command %v; the image's entry point is tickpipe, pass the subcommand in args", cw, c.Command)
			}
			if len(c.Args) == 0 {
				t.Errorf("%s: no args (the tickpipe subcommand)", cw)
			} else {
				components[c.Args[0]] = true
				if d.Spec.Template.Labels["app.kubernetes.io/component"] != c.Args[0] {
					t.Errorf("%s: runs %q but is labelled component %q", cw, c.Args[0], d.Spec.Template.Labels["app.kubernetes.io/component"])
				}
			}
			checkResources(t, cw, c.Resources)
			checkProbe(t, cw+" liveness", c, c.LivenessProbe)
			checkProbe(t, cw+" readiness", c, c.ReadinessProbe)
			if len(c.Args) > 0 && c.Args[0] == "serve" && (c.LivenessProbe == nil || c.ReadinessProbe == nil) {
				t.Errorf("%s: serve needs liveness and readiness probes", cw)
			}
			for _, m := range c.VolumeMounts {
				if !vols[m.Name] {
					t.Errorf("%s: mounts volume %q the pod does not have", cw, m.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
					if keys, ok := cms[ref.Name]; !ok || !keys[ref.Key] {
						t.Errorf("%s: env %s refers to ConfigMap %s key %s, which is not rendered", cw, e.Name, ref.Name, ref.Key)
					}
				}
				if ref := e.ValueFrom.SecretKeyRef; ref != nil {
					if external[ref.Name] {
						continue
					}
					if keys, ok := secrets[ref.Name]; !ok || !keys[ref.Key] {
						t.Errorf("%s: env %s refers to Secret %s key %s, which is not rendered", cw, e.Name, ref.Name, ref.Key)
					}
				}
			}
		}
	}
	for _, s := range r.services {
		where := fmt.Sprintf("%s: Service %s", r.name, s.Name)
		checkName(t, r.name, "Service", s.Name, true)
		var hit []appsv1.Deployment
		for _, d := range r.deployments {
			if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				hit = append(hit, d)
			}
		}
		if len(hit) != 1 {
			t.Errorf("%s: selector %v selects the pods of %d Deployments, want 1", where, s.Spec.Selector, len(hit))
			continue
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort.StrVal == "" {
				continue
			}
			if _, ok := portNames(hit[0].Spec.Template.Spec.Containers[0])[p.TargetPort.StrVal]; !ok {
				t.Errorf("%s: targetPort %q is not a named port of %s", where, p.TargetPort.StrVal, hit[0].Name)
			}
		}
	}
	for _, p := range r.pdbs {
		where := fmt.Sprintf("%s: PodDisruptionBudget %s", r.name, p.Name)
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || p.Spec.Selector == nil {
			t.Errorf("%s: bad selector", where)
			continue
		}
		n := 0
		for _, d := range r.deployments {
			if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				n++
				if len(d.Spec.Template.Spec.Containers) > 0 && len(d.Spec.Template.Spec.Containers[0].Args) > 0 &&
					d.Spec.Template.Spec.Containers[0].Args[0] != "process" {
					t.Errorf("%s: selects %s; the budget is for process", where, d.Name)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: selects the pods of %d Deployments, want 1", where, n)
		}
		if (p.Spec.MaxUnavailable == nil) == (p.Spec.MinAvailable == nil) {
			t.Errorf("%s: set exactly one of maxUnavailable and minAvailable", where)
		}
	}
	t.Logf("%s: %d Deployments (%v), %d Services, %d ConfigMaps, %d Secrets, %d PodDisruptionBudgets decoded strictly",
		r.name, len(r.deployments), keys(components), len(r.services), len(r.configMaps), len(r.secrets), len(r.pdbs))
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestStrictDecodingRejects shows the decoder is strict: a misspelt field
// and a duplicate field both fail (the check this file relies on).
func TestStrictDecodingRejects(t *testing.T) {
	good := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: 1\n"
	var d appsv1.Deployment
	if err := strictDecode([]byte(good), &d); err != nil {
		t.Fatalf("a valid Deployment failed: %v", err)
	}
	for _, bad := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 1\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: 1\n  replicas: 2\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          livenesProbe: {}\n",
	} {
		if err := strictDecode([]byte(bad), &d); err == nil {
			t.Errorf("strict decoding accepted:\n%s", bad)
		}
	}
}
