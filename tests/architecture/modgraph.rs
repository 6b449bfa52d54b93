//! The crate's module graph, read from `src/` the way rustc finds modules:
//! from `lib.rs` through `mod` declarations (`#[path]` included), with each
//! `crate::`, `super::`, `self::` path, child-module path and imported name
//! resolved to the file that defines it (following `use` re-exports). Only
//! what the house rules in ARCHITECTURE.md need, not a Rust front end: macros
//! are not expanded, and glob imports are not followed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::lex::{Tok, lex, parse_use_tree};

pub type ModPath = Vec<String>;

/// One reference from a file to a module in another file.
#[derive(Debug, Clone)]
pub struct Edge {
    pub from: PathBuf,
    pub to: PathBuf,
    /// The path as written, for the report.
    pub written: String,
}

pub struct Graph {
    /// Each file's module path (the first declaration, for a file included
    /// twice through `#[path]`).
    pub module_of: BTreeMap<PathBuf, ModPath>,
    pub edges: Vec<Edge>,
}

struct Walk {
    /// Every module path (file and inline) to the file that holds it.
    file_of: HashMap<ModPath, PathBuf>,
    module_of: BTreeMap<PathBuf, ModPath>,
    /// module → name → the absolute-or-relative path it was imported as,
    /// with the module it was written in (for resolving it later).
    imports: HashMap<ModPath, HashMap<String, Vec<String>>>,
    tokens: BTreeMap<PathBuf, Vec<Tok>>,
}

/// Tracks `mod name { … }` nesting within one file.
struct Scope {
    depth: usize,
    inline: Vec<(String, usize)>,
}

impl Scope {
    fn new() -> Self {
        Scope {
            depth: 0,
            inline: Vec::new(),
        }
    }

    fn module(&self, file_module: &ModPath) -> ModPath {
        let mut m = file_module.clone();
        m.extend(self.inline.iter().map(|(n, _)| n.clone()));
        m
    }

    /// Updates nesting for token `i`; returns true when it was a brace.
    fn step(&mut self, toks: &[Tok], i: usize) {
        match &toks[i] {
            Tok::Open => {
                self.depth += 1;
                if i >= 2
                    && let (Tok::Ident(kw), Tok::Ident(name)) = (&toks[i - 2], &toks[i - 1])
                    && kw == "mod"
                {
                    self.inline.push((name.clone(), self.depth));
                }
            }
            Tok::Close => {
                if self.inline.last().is_some_and(|(_, d)| *d == self.depth) {
                    self.inline.pop();
                }
                self.depth = self.depth.saturating_sub(1);
            }
            _ => {}
        }
    }
}

impl Walk {
    fn load(&mut self, file: PathBuf, module: ModPath) {
        if self.module_of.contains_key(&file) {
            self.file_of.insert(module, file);
            return;
        }
        let src = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let toks = lex(&src);
        self.file_of.insert(module.clone(), file.clone());
        self.module_of.insert(file.clone(), module.clone());
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let owns_dir = matches!(
            file.file_name().and_then(|n| n.to_str()),
            Some("mod.rs" | "lib.rs")
        );
        let child_dir = if owns_dir {
            dir.clone()
        } else {
            dir.join(file.file_stem().unwrap_or_default())
        };
        let mut scope = Scope::new();
        let mut path_attr: Option<String> = None;
        let mut children = Vec::new();
        for i in 0..toks.len() {
            scope.step(&toks, i);
            if let Tok::Ident(w) = &toks[i]
                && w == "path"
                && toks.get(i + 1) == Some(&Tok::Punct('='))
                && let Some(Tok::Str(p)) = toks.get(i + 2)
            {
                path_attr = Some(p.clone());
            }
            let Tok::Ident(w) = &toks[i] else { continue };
            if w == "mod"
                && let Some(Tok::Ident(name)) = toks.get(i + 1)
            {
                let current = scope.module(&module);
                let mut child = current.clone();
                child.push(name.clone());
                match toks.get(i + 2) {
                    Some(Tok::Semi) => {
                        let child_file = match path_attr.take() {
                            Some(p) => dir.join(p),
                            None if child_dir.join(format!("{name}.rs")).exists() => {
                                child_dir.join(format!("{name}.rs"))
                            }
                            None => child_dir.join(name).join("mod.rs"),
                        };
                        children.push((child_file, child));
                    }
                    Some(Tok::Open) => {
                        self.file_of.insert(child, file.clone());
                    }
                    _ => {}
                }
            } else if w == "use" {
                let current = scope.module(&module);
                let mut j = i + 1;
                let mut leaves = Vec::new();
                parse_use_tree(&toks, &mut j, &[], &mut leaves);
                let names = self.imports.entry(current).or_default();
                for leaf in leaves {
                    if let Some(name) = leaf.name {
                        names.insert(name, leaf.path);
                    }
                }
            }
        }
        self.tokens.insert(file, toks);
        for (child_file, child) in children {
            self.load(child_file, child);
        }
    }

    /// An absolute module-or-item path for `segs` written in module `ctx`.
    fn absolute(&self, ctx: &ModPath, segs: &[String], depth: usize) -> Option<ModPath> {
        let (first, rest) = segs.split_first()?;
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => ctx.clone(),
            "super" => {
                let mut base = ctx.clone();
                base.pop()?;
                let mut rest = rest;
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                return Some(base);
            }
            _ => {
                let mut child = ctx.clone();
                child.push(first.clone());
                if self.file_of.contains_key(&child) {
                    child
                } else if depth < 8
                    && let Some(imported) = self.imports.get(ctx).and_then(|m| m.get(first))
                {
                    // A use path is resolved in the module that wrote it.
                    self.absolute(ctx, imported, depth + 1)?
                } else {
                    return None;
                }
            }
        };
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The file defining what `abs` names: its longest module prefix, then
    /// through that module's imports when the next segment is one of them.
    fn file_for(&self, abs: &ModPath, depth: usize) -> Option<&PathBuf> {
        let k = (0..=abs.len())
            .rev()
            .find(|&k| self.file_of.contains_key(&abs[..k]))?;
        let module = abs[..k].to_vec();
        if depth < 8
            && let Some(next) = abs.get(k)
            && let Some(imported) = self.imports.get(&module).and_then(|m| m.get(next))
            && let Some(target) = self.absolute(&module, imported, depth + 1)
        {
            let mut target = target;
            target.extend(abs[k + 1..].iter().cloned());
            if let Some(file) = self.file_for(&target, depth + 1) {
                return Some(file);
            }
        }
        self.file_of.get(&module)
    }

    fn edges(&self) -> Vec<Edge> {
        let mut edges = Vec::new();
        let mut seen = BTreeSet::new();
        for (file, toks) in &self.tokens {
            let module = &self.module_of[file];
            let mut scope = Scope::new();
            let mut i = 0;
            while i < toks.len() {
                scope.step(toks, i);
                let starts_path = matches!(&toks[i], Tok::Ident(_))
                    && toks.get(i + 1) == Some(&Tok::PathSep)
                    && (i == 0 || toks[i - 1] != Tok::PathSep);
                let is_use = toks[i] == Tok::Ident("use".into());
                if !starts_path && !is_use {
                    i += 1;
                    continue;
                }
                let ctx = scope.module(module);
                let mut paths = Vec::new();
                let mut j = i;
                if is_use {
                    j += 1;
                    let mut leaves = Vec::new();
                    parse_use_tree(toks, &mut j, &[], &mut leaves);
                    paths.extend(leaves.into_iter().map(|l| l.path));
                } else {
                    let mut segs = Vec::new();
                    while let Some(Tok::Ident(s)) = toks.get(j) {
                        segs.push(s.clone());
                        j += 1;
                        if toks.get(j) != Some(&Tok::PathSep) {
                            break;
                        }
                        j += 1;
                    }
                    paths.push(segs);
                }
                for segs in paths {
                    let Some(abs) = self.absolute(&ctx, &segs, 0) else {
                        continue;
                    };
                    let Some(to) = self.file_for(&abs, 0) else {
                        continue;
                    };
                    if to != file && seen.insert((file.clone(), to.clone())) {
                        edges.push(Edge {
                            from: file.clone(),
                            to: to.clone(),
                            written: segs.join("::"),
                        });
                    }
                }
                // Step over the path, still tracking braces it contains.
                for k in i + 1..j.min(toks.len()) {
                    scope.step(toks, k);
                }
                i = j.max(i + 1);
            }
        }
        edges
    }
}

/// Reads the crate whose root is `lib`.
pub fn read(lib: &Path) -> Graph {
    let mut walk = Walk {
        file_of: HashMap::new(),
        module_of: BTreeMap::new(),
        imports: HashMap::new(),
        tokens: BTreeMap::new(),
    };
    walk.load(lib.to_path_buf(), Vec::new());
    let edges = walk.edges();
    Graph {
        module_of: walk.module_of,
        edges,
    }
}

impl Graph {
    /// Edges between sibling modules, grouped by the module whose children
    /// they join: for each level, (from child, to child) → the file edges.
    /// A module's own file is the face of its children (they may use what
    /// it declares), so edges into an ancestor or out of one don't count.
    pub fn sibling_edges(&self) -> BTreeMap<ModPath, BTreeMap<(String, String), Vec<&Edge>>> {
        let mut levels: BTreeMap<ModPath, BTreeMap<(String, String), Vec<&Edge>>> = BTreeMap::new();
        for edge in &self.edges {
            let (a, b) = (&self.module_of[&edge.from], &self.module_of[&edge.to]);
            let k = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            if k == a.len() || k == b.len() {
                continue;
            }
            levels
                .entry(a[..k].to_vec())
                .or_default()
                .entry((a[k].clone(), b[k].clone()))
                .or_default()
                .push(edge);
        }
        levels
    }
}

/// The cycles among `edges`' nodes: each strongly connected component of more
/// than one node, sorted.
pub fn cycles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| {
        let mut seen = BTreeSet::from([from.clone()]);
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for (a, b) in edges {
                if *a == n && seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|&n| (n, reach(n))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for &n in &nodes {
        let component: Vec<String> = nodes
            .iter()
            .filter(|&&m| reachable[n].contains(m) && reachable[m].contains(n))
            .map(|m| (*m).clone())
            .collect();
        if component.len() > 1 && !out.contains(&component) {
            out.push(component);
        }
    }
    out
}
