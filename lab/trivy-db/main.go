// Command trivy-db builds the lab's small, real Trivy vulnerability database (schema v2)
// from advisories.yaml, with the same trivy-db packages and build steps Trivy's own DB uses.
//
//	go run . -advisories advisories.yaml -out DIR [-next-update 24h]
//
// DIR receives trivy.db (bbolt) and metadata.json, the layout of `trivy --cache-dir C` under C/db.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.yaml.in/yaml/v4"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulndb"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/bucket"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
)

// The data sources Trivy's detectors look up: Debian's tracker and GHSA's pip ecosystem.
var (
	debianSource = types.DataSource{
		ID:   vulnerability.Debian,
		Name: "Debian Security Tracker",
		URL:  "https://salsa.debian.org/security-tracker-team/security-tracker",
	}
	pipSource = types.DataSource{
		ID:   vulnerability.GHSA,
		Name: "GitHub Security Advisory pip",
		URL:  "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Apip",
	}
)

type advisoryFile struct {
	Vulnerabilities []vulnEntry `yaml:"vulnerabilities"`
}

type vulnEntry struct {
	ID          string   `yaml:"id"`
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"`
	Published   string   `yaml:"published"`
	CWE         []string `yaml:"cwe"`
	NVD         struct {
		Score    float64 `yaml:"score"`
		Vector   string  `yaml:"vector"`
		Severity string  `yaml:"severity"`
		ScoredBy string  `yaml:"scoredBy"`
	} `yaml:"nvd"`
	References []string      `yaml:"references"`
	Sources    []string      `yaml:"sources"`
	Affects    []affectEntry `yaml:"affects"`
}

type affectEntry struct {
	Ecosystem    string   `yaml:"ecosystem"`
	Release      string   `yaml:"release"`
	Package      string   `yaml:"package"`
	Status       string   `yaml:"status"`
	FixedVersion string   `yaml:"fixedVersion"`
	VendorIDs    []string `yaml:"vendorIds"`
	Vulnerable   []string `yaml:"vulnerable"`
	Patched      []string `yaml:"patched"`
}

// labSource is a trivy-db VulnSrc whose Update writes our advisories instead of reading vuln-list.
type labSource struct {
	dbc     db.Config
	entries []vulnEntry
}

func (labSource) Name() types.SourceID { return "portcullis-lab" }

func (s labSource) Update(string) error {
	return s.dbc.BatchUpdate(func(tx *bolt.Tx) error {
		for _, v := range s.entries {
			if err := s.put(tx, v); err != nil {
				return fmt.Errorf("%s: %w", v.ID, err)
			}
		}
		return nil
	})
}

func (s labSource) put(tx *bolt.Tx, v vulnEntry) error {
	nvdSeverity, err := types.NewSeverity(v.NVD.Severity)
	if err != nil {
		return fmt.Errorf("nvd.severity: %w", err)
	}
	nvd := types.VulnerabilityDetail{
		ID:           v.ID,
		CvssScoreV3:  v.NVD.Score,
		CvssVectorV3: v.NVD.Vector,
		SeverityV3:   nvdSeverity,
		CweIDs:       v.CWE,
		References:   v.References,
		Title:        v.Title,
		Description:  strings.TrimSpace(v.Description),
	}
	if v.Published != "" {
		t, err := time.Parse(time.RFC3339, v.Published)
		if err != nil {
			return fmt.Errorf("published: %w", err)
		}
		nvd.PublishedDate = &t
	}
	if err := s.dbc.PutVulnerabilityDetail(tx, v.ID, vulnerability.NVD, nvd); err != nil {
		return err
	}
	if len(v.Affects) == 0 {
		return fmt.Errorf("no affects entry")
	}
	for _, a := range v.Affects {
		switch a.Ecosystem {
		case "debian":
			if a.Release == "" || a.Package == "" {
				return fmt.Errorf("debian entry needs release and package")
			}
			if (a.FixedVersion == "") == (a.Status == "") {
				return fmt.Errorf("debian %s: give exactly one of fixedVersion and status", a.Package)
			}
			platform := bucket.NewDebian(a.Release).Name()
			// Pointer: Advisory.MarshalJSON (pointer receiver) stores Status as the int Trivy reads.
			adv := &types.Advisory{FixedVersion: a.FixedVersion}
			if a.Status != "" {
				adv.Status = types.NewStatus(a.Status)
				if adv.Status == types.StatusUnknown {
					return fmt.Errorf("debian %s: unknown status %q", a.Package, a.Status)
				}
			}
			if err := s.dbc.PutAdvisoryDetail(tx, v.ID, a.Package, []string{platform}, adv); err != nil {
				return err
			}
			if err := s.dbc.PutVulnerabilityDetail(tx, v.ID, debianSource.ID, types.VulnerabilityDetail{Title: v.Title}); err != nil {
				return err
			}
			if err := s.dbc.PutDataSource(tx, platform, debianSource); err != nil {
				return err
			}
		case "pip":
			if a.Package == "" || len(a.Vulnerable) == 0 {
				return fmt.Errorf("pip entry needs package and vulnerable ranges")
			}
			bkt, err := bucket.NewPyPI(pipSource)
			if err != nil {
				return err
			}
			adv := &types.Advisory{VendorIDs: a.VendorIDs, VulnerableVersions: a.Vulnerable, PatchedVersions: a.Patched}
			name := vulnerability.NormalizePkgName(bkt.Ecosystem(), a.Package)
			if err := s.dbc.PutAdvisoryDetail(tx, v.ID, name, []string{bkt.Name()}, adv); err != nil {
				return err
			}
			if err := s.dbc.PutDataSource(tx, bkt.Name(), pipSource); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown ecosystem %q (debian or pip)", a.Ecosystem)
		}
	}
	return s.dbc.PutVulnerabilityID(tx, v.ID)
}

func main() {
	advisories := flag.String("advisories", "advisories.yaml", "advisory list (YAML)")
	out := flag.String("out", "", "output directory for trivy.db and metadata.json (required)")
	nextUpdate := flag.Duration("next-update", 24*time.Hour, "NextUpdate = now + this")
	flag.Parse()
	if err := run(*advisories, *out, *nextUpdate); err != nil {
		fmt.Fprintln(os.Stderr, "trivy-db:", err)
		os.Exit(1)
	}
}

func run(advisoriesPath, out string, nextUpdate time.Duration) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	raw, err := os.ReadFile(advisoriesPath)
	if err != nil {
		return err
	}
	var file advisoryFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return fmt.Errorf("%s: %w", advisoriesPath, err)
	}
	if len(file.Vulnerabilities) == 0 {
		return fmt.Errorf("%s: no vulnerabilities", advisoriesPath)
	}
	// Build into a fresh temporary directory, then swap it in, so readers never see a half-built DB.
	tmp := out + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := db.Init(tmp); err != nil {
		return err
	}
	src := labSource{entries: file.Vulnerabilities}
	build := vulndb.New(tmp, tmp, nextUpdate, vulndb.WithVulnSrcs(map[types.SourceID]vulnsrc.VulnSrc{src.Name(): src}))
	if err := build.Build([]string{string(src.Name())}); err != nil {
		_ = db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Printf("trivy-db: %d advisories -> %s\n", len(file.Vulnerabilities), out)
	return nil
}
