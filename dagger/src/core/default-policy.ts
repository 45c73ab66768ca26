/** The built-in policy, byte for byte the same as policies/default.yaml (a unit test holds them equal). */
export const DEFAULT_POLICY_YAML = `# portcullis default policy: a MEDIUM-or-worse Bandit finding blocks, CRITICAL image vulnerabilities block,
# HIGH ones are reported. Validate with: npx portcullis policy validate policies/default.yaml
version: 1
sast:
  failOn: MEDIUM          # Bandit severity at or above this blocks (e.g. B104, binding to 0.0.0.0)…
  minConfidence: MEDIUM   # …when Bandit is at least this confident
  warnOn: LOW             # below failOn, at or above this: reported as a warning
image:
  failOn: CRITICAL        # Trivy severity at or above this blocks
  warnOn: HIGH            # reported as a warning
  ignoreUnfixed: false    # true: only vulnerabilities with a fixed version can block
  maxDbAgeDays: 7         # an older Trivy DB (db/metadata.json UpdatedAt) makes the verdict "error"
maxWaiverDays: 90         # a waiver expiring further out than this is a policy error
waivers: []
# A waiver: id, reason, owner and expires are required; package and path narrow it.
#  - id: CVE-2023-45853
#    package: zlib1g
#    reason: "minizip is not built into zlib1g; not reachable"
#    owner: security@example.com
#    expires: 2027-01-31
`;
