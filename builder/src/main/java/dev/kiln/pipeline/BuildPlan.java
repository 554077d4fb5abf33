package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.specfile.Capabilities;
import dev.kiln.specfile.EvaluatedSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Which packages a run builds, and in what order. A BuildRequires is satisfied by the builder
 * image or by a package built from this repository; the latter makes an edge, and the dependent
 * builds after it. Dependencies that are neither in the run nor released yet join the run.
 * Everything here is decided before any container starts: an unsatisfiable BuildRequires or a
 * cycle is bad input.
 */
final class BuildPlan {

    /** A BuildRequires that neither the builder image nor a package of this repository provides. */
    private record Unsatisfied(EvaluatedSpec spec, EvaluatedSpec.Requirement requirement) {
    }

    private final Map<String, Set<String>> dependsOn;
    private final List<String> order;

    private BuildPlan(Map<String, Set<String>> dependsOn, List<String> order) {
        this.dependsOn = dependsOn;
        this.order = order;
    }

    /**
     * @param specs every package of the repository by name
     * @param requested the packages asked for
     * @param image what the builder image provides
     * @param released whether a package has a release in the repository to take instead of building it
     */
    static BuildPlan resolve(Map<String, EvaluatedSpec> specs, Set<String> requested, Capabilities image, String builder,
            Predicate<String> released) {
        Map<String, Unsatisfied> unsatisfied = new TreeMap<>();
        for (String pkg : requested) {
            requireNameOfFolder(pkg, specs.get(pkg));
        }
        Map<String, Set<String>> graph = graph(specs, image, unsatisfied);
        Set<String> batch = new TreeSet<>(requested);
        Deque<String> todo = new ArrayDeque<>(batch);
        while (!todo.isEmpty()) {
            for (String dep : graph.get(todo.pop())) {
                if (!batch.contains(dep) && !released.test(dep)) {
                    batch.add(dep);
                    todo.push(dep);
                }
            }
        }
        for (String pkg : batch) {
            requireNameOfFolder(pkg, specs.get(pkg));
            Unsatisfied u = unsatisfied.get(pkg);
            if (u != null) {
                throw KilnException.badInput(u.spec().path() + ":" + u.requirement().line() + ": BuildRequires " + u.requirement()
                        + ": nobody provides it (not builder image " + builder + ", not a package in specs/): add it to "
                        + "containers/" + builder + "/ and re-pin, or package it");
            }
        }
        Map<String, Set<String>> inRun = new TreeMap<>();
        for (String pkg : batch) {
            inRun.put(pkg, new TreeSet<>(graph.get(pkg)));
        }
        Map<String, Set<String>> edgesInRun = new TreeMap<>();
        inRun.forEach((pkg, deps) -> edgesInRun.put(pkg, deps.stream().filter(batch::contains).collect(
                java.util.stream.Collectors.toCollection(TreeSet::new))));
        requireAcyclic(edgesInRun, specs);
        return new BuildPlan(inRun, topological(inRun, batch));
    }

    /** The packages that changed and every package that (transitively) BuildRequires one of them. */
    static Set<String> withDependents(Map<String, EvaluatedSpec> specs, Set<String> changed, Capabilities image, String builder) {
        Map<String, Set<String>> graph = graph(specs, image, new TreeMap<>());
        requireAcyclic(graph, specs);
        Set<String> result = new TreeSet<>(changed);
        boolean grew = true;
        while (grew) {
            grew = false;
            for (Map.Entry<String, Set<String>> e : graph.entrySet()) {
                if (!result.contains(e.getKey()) && e.getValue().stream().anyMatch(result::contains)) {
                    result.add(e.getKey());
                    grew = true;
                }
            }
        }
        return result;
    }

    /** The run's packages in build order: each after the ones it needs. */
    List<String> order() {
        return order;
    }

    /** The packages of this repository that {@code pkg} BuildRequires (in the run or released). */
    Set<String> dependencies(String pkg) {
        return dependsOn.getOrDefault(pkg, Set.of());
    }

    /** A spec whose Name is not its folder's would be built and published under a name nobody asked for. */
    private static void requireNameOfFolder(String pkg, EvaluatedSpec spec) {
        if (spec != null && !spec.name().equals(pkg)) {
            throw KilnException.badInput(spec.path() + ": Name is '" + spec.name() + "' but the folder is specs/" + pkg
                    + "/: make them the same");
        }
    }

    /** Edges by package folder name (the key of {@code specs}), the name every caller asks by. */
    private static Map<String, Set<String>> graph(Map<String, EvaluatedSpec> specs, Capabilities image, Map<String, Unsatisfied> unsatisfied) {
        Map<String, String> providers = new TreeMap<>();
        specs.forEach((pkg, spec) -> {
            for (String capability : spec.capabilities()) {
                // a package's own name wins over another package providing the same capability
                providers.merge(capability, pkg, (a, b) -> a.equals(capability) ? a : b.equals(capability) ? b : a);
            }
        });
        Map<String, Set<String>> graph = new TreeMap<>();
        specs.forEach((pkg, spec) -> {
            Set<String> deps = new TreeSet<>();
            for (EvaluatedSpec.Requirement r : spec.buildRequires()) {
                String internal = providers.get(r.capability());
                if (internal != null && !internal.equals(pkg)) {
                    deps.add(internal);
                } else if (!image.unsatisfied(List.of(r)).isEmpty()) {
                    unsatisfied.putIfAbsent(pkg, new Unsatisfied(spec, r));
                }
            }
            graph.put(pkg, deps);
        });
        return graph;
    }

    private static void requireAcyclic(Map<String, Set<String>> graph, Map<String, EvaluatedSpec> specs) {
        Map<String, Integer> state = new LinkedHashMap<>();
        for (String start : graph.keySet()) {
            List<String> cycle = visit(start, graph, state, new ArrayList<>());
            if (cycle != null) {
                throw KilnException.badInput("dependency cycle in BuildRequires: " + String.join(" -> ", cycle)
                        + " (" + specs.get(cycle.get(0)).path() + "): break it, e.g. with a bootstrap build of one of them");
            }
        }
    }

    private static List<String> visit(String node, Map<String, Set<String>> graph, Map<String, Integer> state, List<String> path) {
        Integer s = state.get(node);
        if (s != null && s == 2) {
            return null;
        }
        if (s != null && s == 1) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(node), path.size()));
            cycle.add(node);
            return cycle;
        }
        state.put(node, 1);
        path.add(node);
        for (String next : graph.getOrDefault(node, Set.of())) {
            List<String> cycle = visit(next, graph, state, path);
            if (cycle != null) {
                return cycle;
            }
        }
        path.removeLast();
        state.put(node, 2);
        return null;
    }

    private static List<String> topological(Map<String, Set<String>> inRun, Set<String> batch) {
        List<String> order = new ArrayList<>();
        Set<String> done = new LinkedHashSet<>();
        while (order.size() < batch.size()) {
            for (String pkg : batch) {
                if (!done.contains(pkg) && inRun.get(pkg).stream().filter(batch::contains).allMatch(done::contains)) {
                    order.add(pkg);
                    done.add(pkg);
                    break;
                }
            }
        }
        return List.copyOf(order);
    }
}
