// Command argocd-health prints the health Argo CD's application controller gives live objects,
// computed by Argo CD's own code, so the project's health check is tested the way Argo CD runs it:
//
//   - the resource customizations are read from an argocd-cm ConfigMap by Argo CD's settings
//     manager (the same keys, labels and parsing as in a real installation);
//   - each object goes through gitops-engine's GetResourceHealth, as the controller's
//     setApplicationHealth calls it: the built-in rules first (an object being deleted is
//     "Progressing: Pending deletion" before any script runs), then the custom health.lua in Argo
//     CD's Lua VM (gopher-lua, Lua 5.1, with Argo CD's restricted library set).
//
// Usage: argocd-health -argocd-cm argocd-cm.yaml < objects.yaml
// stdin holds one or more objects (YAML documents or JSON); each gets one JSON line on stdout:
// {"status":"...","message":"..."} plus "error" when Argo CD would log one (a failing script).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/argoproj/argo-cd/v3/util/settings"
	"github.com/argoproj/gitops-engine/pkg/health"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/fake"
	sigsyaml "sigs.k8s.io/yaml"
)

type result struct {
	Status  health.HealthStatusCode `json:"status"`
	Message string                  `json:"message"`
	Error   string                  `json:"error,omitempty"`
}

func main() {
	cmPath := flag.String("argocd-cm", "", "the argocd-cm ConfigMap (YAML or JSON) with resource.customizations.* keys")
	flag.Parse()
	if *cmPath == "" {
		fail(errors.New("-argocd-cm is required"))
	}
	overrides, err := resourceOverrides(*cmPath)
	if err != nil {
		fail(err)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	decoder := yaml.NewYAMLOrJSONDecoder(os.Stdin, 4096)
	for {
		var raw json.RawMessage
		if err := decoder.Decode(&raw); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			fail(fmt.Errorf("reading an object from stdin: %w", err))
		}
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		// Unstructured, as the controller's cluster cache holds live objects (integers as int64).
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(raw); err != nil {
			fail(fmt.Errorf("reading an object from stdin: %w", err))
		}
		line, _ := json.Marshal(healthOf(obj, overrides))
		fmt.Fprintln(out, string(line))
	}
}

// healthOf is what the controller's setApplicationHealth records for one live resource.
func healthOf(obj *unstructured.Unstructured, overrides lua.ResourceHealthOverrides) result {
	status, err := health.GetResourceHealth(obj, overrides)
	r := result{}
	if status != nil {
		r.Status, r.Message = status.Status, status.Message
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

// resourceOverrides loads the customizations the way Argo CD's controller does: its settings
// manager reads argocd-cm (only when labelled app.kubernetes.io/part-of: argocd) from the API.
func resourceOverrides(path string) (lua.ResourceHealthOverrides, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{}
	if err := sigsyaml.Unmarshal(data, cm); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cm.Namespace == "" {
		cm.Namespace = "argocd"
	}
	manager := settings.NewSettingsManager(context.Background(), fake.NewClientset(cm), cm.Namespace)
	overrides, err := manager.GetResourceOverrides()
	if err != nil {
		return nil, fmt.Errorf("argocd-cm %s: %w", path, err)
	}
	return lua.ResourceHealthOverrides(overrides), nil
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "argocd-health: %v\n", err)
	os.Exit(2)
}
