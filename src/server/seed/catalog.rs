//! The words a seeded team is made of: people, organizations, repositories, task titles,
//! Linear's workflow states and their colours. Pure data; `seed` picks from it.

/// (name, slug, Linear team key, GitHub owner)
pub const ORGANIZATIONS: &[(&str, &str, &str, &str)] = &[
    ("Superset", "superset", "SUPER", "superset-sh"),
    ("Globex Labs", "globex", "GLX", "globex-labs"),
    ("Initech", "initech", "INI", "initech"),
];

pub const PEOPLE: &[&str] = &[
    "Sarah Chen",
    "Mike Johnson",
    "Priya Patel",
    "Diego Alvarez",
    "Emma Schmidt",
    "Kenji Watanabe",
    "Amara Okafor",
    "Lucas Martin",
    "Sofia Rossi",
    "Noah Williams",
    "Aisha Rahman",
    "Jonas Berg",
];

/// Repository names, handed out to organizations in turn.
pub const REPOSITORIES: &[&str] = &[
    "superset", "desktop", "api", "web", "docs", "infra", "mobile", "sdk",
];

/// Linear's default workflow, with the weight each state has in a living backlog.
pub const STATES: &[(&str, &str, u32)] = &[
    ("Backlog", "#bec2c8", 25),
    ("Todo", "#e2e2e2", 20),
    ("In Progress", "#f2c94c", 18),
    ("In Review", "#0f783c", 10),
    ("Done", "#5e6ad2", 22),
    ("Canceled", "#95a2b3", 5),
];

/// Priority names (Linear's 0–4 scale, named) with weights.
pub const PRIORITIES: &[(&str, u32)] = &[
    ("none", 20),
    ("urgent", 5),
    ("high", 20),
    ("medium", 35),
    ("low", 20),
];

pub const LABELS: &[&str] = &[
    "bug",
    "feature",
    "frontend",
    "backend",
    "infra",
    "design",
    "performance",
    "security",
    "tech-debt",
];

pub const VERBS: &[&str] = &[
    "Add", "Fix", "Refactor", "Speed up", "Document", "Remove", "Redesign", "Test", "Migrate",
    "Harden",
];

pub const OBJECTS: &[&str] = &[
    "login flow",
    "org switcher",
    "workspace presence",
    "PR status badge",
    "task search",
    "sync retry logic",
    "settings page",
    "onboarding checklist",
    "webhook signature check",
    "repository import",
    "keyboard shortcuts",
    "dark theme",
    "notification center",
    "billing page",
    "audit log",
    "CSV export",
    "rate limiter",
    "session refresh",
    "branch picker",
    "terminal presets",
];

pub const DESCRIPTIONS: &[&str] = &[
    "Customers reported this in the last sprint review. Reproduce first, then fix.",
    "Part of the Q3 reliability push. Keep the change small and behind a flag.",
    "Design is in Figma; check with design before changing the layout.",
    "Follow-up from the incident review: add a regression test.",
    "Low risk, but touches shared code: ask for a second review.",
];

pub const DEVICES: &[&str] = &[
    "MacBook Pro",
    "MacBook Air",
    "ThinkPad",
    "Framework",
    "Linux box",
];
