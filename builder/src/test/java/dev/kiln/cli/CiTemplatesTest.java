package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.codehaus.groovy.ast.CodeVisitorSupport;
import org.codehaus.groovy.ast.ModuleNode;
import org.codehaus.groovy.ast.expr.ArgumentListExpression;
import org.codehaus.groovy.ast.expr.BinaryExpression;
import org.codehaus.groovy.ast.expr.ConstantExpression;
import org.codehaus.groovy.ast.expr.Expression;
import org.codehaus.groovy.ast.expr.MapExpression;
import org.codehaus.groovy.ast.expr.MethodCallExpression;
import org.codehaus.groovy.ast.expr.TupleExpression;
import org.codehaus.groovy.ast.expr.VariableExpression;
import org.codehaus.groovy.control.CompilationFailedException;
import org.codehaus.groovy.control.CompilationUnit;
import org.codehaus.groovy.control.CompilerConfiguration;
import org.codehaus.groovy.control.Phases;
import org.junit.jupiter.api.Test;
import org.springframework.shell.core.command.Command;
import org.springframework.shell.core.command.CommandRegistry;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The pipeline templates in {@code ci/} are valid for their CI system as far as can be checked
 * offline (YAML structure, a real Groovy parse of the Jenkinsfile), and every {@code ./kiln}
 * command line in them parses with Kiln's own strict command parser.
 */
class CiTemplatesTest {

    private static final Path ROOT = projectRoot();
    private static final Path GITHUB = ROOT.resolve("ci/github/kiln.yml");
    private static final Path GITLAB = ROOT.resolve("ci/gitlab/kiln.gitlab-ci.yml");
    private static final Path JENKINS = ROOT.resolve("ci/jenkins/Jenkinsfile");
    private static final List<Path> TEMPLATES = List.of(GITHUB, GITLAB, JENKINS);
    private static final String JUNIT = "build/kiln-junit.xml";

    private static Path projectRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("ci")) && Files.isRegularFile(p.resolve("kiln"))) {
                return p;
            }
        }
        throw new IllegalStateException("no project root with ci/ and kiln above " + Path.of("").toAbsolutePath());
    }

    // ---- every ./kiln command line, against the real commands ----

    /** One {@code ./kiln} command line in a template, and the tokens after {@code ./kiln}. */
    record KilnLine(Path file, String line, List<String> tokens) {
    }

    private static final Pattern CONTINUATION = Pattern.compile("\\\\\\r?\\n[ \\t]*");
    private static final Pattern KILN = Pattern.compile("\\./kiln(?:[ \\t]+([^\\n]*))?");
    /** Where the command ends: a redirect, a pipe, a list operator or a comment. */
    private static final Pattern END = Pattern.compile("\\s(?:\\d?>|\\||&&|;|#)");
    private static final Pattern PLACEHOLDER = Pattern.compile(
            "\\$\\{\\{[^}]*}}" // GitHub expressions ${{ ... }}
                    + "|\\$\\([^)]*\\)" // command substitution $(...)
                    + "|\\$\\{[^}]*}" // ${VAR}, ${VAR:-x}
                    + "|\\$[A-Za-z_][A-Za-z0-9_]*"); // $VAR

    static List<KilnLine> kilnLines(Path file, String text) {
        String joined = CONTINUATION.matcher(text).replaceAll(" ");
        List<KilnLine> lines = new ArrayList<>();
        Matcher m = KILN.matcher(joined);
        while (m.find()) {
            String rest = m.group(1) == null ? "" : m.group(1);
            Matcher end = END.matcher(" " + rest);
            if (end.find()) {
                rest = (" " + rest).substring(0, end.start());
            }
            String concrete = PLACEHOLDER.matcher(rest).replaceAll("PLACEHOLDER");
            lines.add(new KilnLine(file, m.group().strip(), StrictCommandParser.tokenize(concrete)));
        }
        return lines;
    }

    private static CommandRegistry registry() {
        KeyCommands keys = new KeyCommands();
        RepoCommands repo = new RepoCommands();
        ImageCommands images = new ImageCommands();
        Set<Command> commands = Set.of(new BuildCommand(), new BumpCommand(), new DiffCommand(), new HelpCommand(null),
                keys.keyGenerate(), keys.keyShow(), repo.repoServe(), repo.repoList(),
                images.imageBootstrap(), images.imageBuild(), images.imageList());
        return new CommandRegistry(commands);
    }

    /** Resolves the command and parses its options exactly as {@code ./kiln} does; a KilnException is a test failure. */
    private static Invocation parse(CommandRegistry registry, KilnLine line) {
        StrictCommandParser.Resolved resolved = StrictCommandParser.resolve(registry, line.tokens());
        if (resolved == null || !(resolved.command() instanceof KilnCommand command)) {
            throw new AssertionError(line.file() + ": unknown Kiln command in: " + line.line());
        }
        try {
            return command.parse(resolved.rest());
        } catch (KilnException e) {
            throw new AssertionError(line.file() + ": " + e.getMessage() + "\n  in: " + line.line(), e);
        }
    }

    private static List<KilnLine> allKilnLines() throws IOException {
        List<KilnLine> lines = new ArrayList<>();
        for (Path file : TEMPLATES) {
            lines.addAll(kilnLines(file, Files.readString(file)));
        }
        return lines;
    }

    @Test
    void everyKilnCommandLineInEveryTemplateParsesWithTheRealCommands() throws IOException {
        CommandRegistry registry = registry();
        for (Path file : TEMPLATES) {
            assertThat(kilnLines(file, Files.readString(file))).as(file + " has ./kiln lines").hasSizeGreaterThanOrEqualTo(3);
        }
        List<String> problems = new ArrayList<>();
        for (KilnLine line : allKilnLines()) {
            try {
                parse(registry, line);
            } catch (AssertionError e) {
                problems.add(e.getMessage());
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void everyBuildWritesTheJunitReportAndJsonAndOnlyMainPublishes() throws IOException {
        CommandRegistry registry = registry();
        Map<Path, List<Invocation>> builds = new LinkedHashMap<>();
        for (KilnLine line : allKilnLines()) {
            assertThat(line.tokens()).as(line.line()).first().isEqualTo("build");
            Invocation inv = parse(registry, line);
            assertThat(inv.value("report-junit")).as(line.line()).hasValue(JUNIT);
            assertThat(inv.flag("json")).as(line.line()).isTrue();
            assertThat(inv.value("changed-since").isPresent() ^ inv.flag("all")).as("--changed-since or --all: " + line.line()).isTrue();
            assertThat(inv.arguments()).as(line.line()).isEmpty();
            builds.computeIfAbsent(line.file(), f -> new ArrayList<>()).add(inv);
        }
        for (Path file : TEMPLATES) {
            List<Invocation> inFile = builds.get(file);
            assertThat(inFile).as(file.toString()).hasSize(3);
            // one preview build of the merge base, and publishing builds that fall back to --all
            assertThat(inFile.stream().filter(i -> i.flag("no-publish")))
                    .singleElement().satisfies(i -> assertThat(i.value("changed-since")).isPresent());
            assertThat(inFile.stream().filter(i -> !i.flag("no-publish")).map(i -> i.flag("all")))
                    .containsExactlyInAnyOrder(true, false);
        }
    }

    @Test
    void kilnLineExtractionJoinsContinuationsReplacesPlaceholdersAndCatchesUnknownOptions() {
        String script = """
                run: |
                  sudo --preserve-env=CI ./kiln build --changed-since "${{ github.event.before }}" \\
                    --no-publish --report-junit "$OUT/x.xml" --json > build/kiln.json
                  ./kiln build hello --jsno
                  ./kiln frobnicate
                """;
        List<KilnLine> lines = kilnLines(Path.of("t.yml"), script);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0).tokens()).containsExactly("build", "--changed-since", "PLACEHOLDER", "--no-publish",
                "--report-junit", "PLACEHOLDER/x.xml", "--json");
        CommandRegistry registry = registry();
        assertThatThrownBy(() -> parse(registry, lines.get(1))).hasMessageContaining("unknown option --jsno");
        assertThatThrownBy(() -> parse(registry, lines.get(2))).hasMessageContaining("unknown Kiln command");
    }

    // ---- what every template must (not) do ----

    @Test
    void noTemplateEchoesSecretsOrPullsImagesByName() throws IOException {
        Pattern leak = Pattern.compile("\\b(echo|printf|cat|printenv)\\b.*KILN_SIGNING|set -x|^\\s*env\\s*$");
        Pattern registryUse = Pattern.compile("(?m)^\\s*(image|container|services):|docker\\s+(pull|run|login)|agent\\s*\\{\\s*docker|[a-z0-9-]+\\.(io|com|org|net)/");
        for (Path file : TEMPLATES) {
            String text = Files.readString(file);
            assertThat(text.lines().filter(l -> leak.matcher(l).find())).as(file + " prints secrets").isEmpty();
            assertThat(text.lines().filter(l -> registryUse.matcher(l).find())).as(file + " uses a registry").isEmpty();
        }
    }

    // ---- GitHub Actions ----

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yaml(Path file) throws IOException {
        Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        assertThat(doc).as(file.toString()).isInstanceOf(Map.class);
        return (Map<String, Object>) doc;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value, String what) {
        assertThat(value).as(what).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value, String what) {
        assertThat(value).as(what).isInstanceOf(List.class);
        return (List<Object>) value;
    }

    private static List<Map<String, Object>> steps(Map<String, Object> job, String what) {
        return list(job.get("steps"), what + ".steps").stream().map(s -> map(s, what + " step")).toList();
    }

    private static String runText(List<Map<String, Object>> steps) {
        return String.join("\n", steps.stream().filter(s -> s.get("run") != null).map(s -> s.get("run").toString()).toList());
    }

    @Test
    void githubWorkflowPreviewsPullRequestsAndPublishesMainWithTheSigningSecrets() throws IOException {
        Map<String, Object> workflow = yaml(GITHUB);
        // YAML 1.1 reads the key `on` as true
        Map<String, Object> on = map(workflow.containsKey("on") ? workflow.get("on") : workflow.get(Boolean.TRUE), "on");
        assertThat(on).containsKeys("pull_request", "push");
        assertThat(map(on.get("push"), "on.push").get("branches")).isEqualTo(List.of("main"));
        Map<String, Object> jobs = map(workflow.get("jobs"), "jobs");
        assertThat(jobs).containsOnlyKeys("changed-packages", "publish");

        Map<String, Object> preview = map(jobs.get("changed-packages"), "changed-packages");
        assertThat(preview.get("if").toString()).contains("pull_request");
        assertThat(preview.get("runs-on")).isEqualTo("ubuntu-latest");
        List<Map<String, Object>> previewSteps = steps(preview, "changed-packages");
        assertFullHistoryCheckout(previewSteps);
        assertThat(runText(previewSteps)).contains("--no-publish", "--report-junit " + JUNIT, "git merge-base \"origin/$BASE_REF\" HEAD");
        assertThat(previewSteps.toString()).as("pull requests never see the release key").doesNotContain("secrets.");
        assertUploadsReport(previewSteps);

        Map<String, Object> publish = map(jobs.get("publish"), "publish");
        assertThat(publish.get("if").toString()).contains("refs/heads/main");
        List<Map<String, Object>> publishSteps = steps(publish, "publish");
        assertFullHistoryCheckout(publishSteps);
        Map<String, Object> buildStep = publishSteps.stream().filter(s -> String.valueOf(s.get("run")).contains("./kiln build"))
                .findFirst().orElseThrow();
        Map<String, Object> env = map(buildStep.get("env"), "publish build step env");
        assertThat(env).containsEntry("KILN_SIGNING_KEY", "${{ secrets.KILN_SIGNING_KEY }}")
                .containsEntry("KILN_SIGNING_PASSPHRASE", "${{ secrets.KILN_SIGNING_PASSPHRASE }}")
                .containsEntry("BEFORE", "${{ github.event.before }}");
        String run = buildStep.get("run").toString();
        // sudo drops the environment unless told to keep it
        Matcher preserve = Pattern.compile("sudo --preserve-env=(\\S+) \\./kiln").matcher(run);
        int sudoLines = 0;
        while (preserve.find()) {
            sudoLines++;
            assertThat(preserve.group(1).split(",")).contains("CI", "KILN_SIGNING_KEY", "KILN_SIGNING_PASSPHRASE");
        }
        assertThat(sudoLines).isEqualTo(2);
        assertThat(run).contains("\"${BEFORE//0/}\"", "--all");
        assertUploadsReport(publishSteps);
    }

    private static void assertFullHistoryCheckout(List<Map<String, Object>> steps) {
        Map<String, Object> checkout = steps.getFirst();
        assertThat(String.valueOf(checkout.get("uses"))).startsWith("actions/checkout@");
        assertThat(map(checkout.get("with"), "checkout.with")).containsEntry("fetch-depth", 0);
    }

    private static void assertUploadsReport(List<Map<String, Object>> steps) {
        Map<String, Object> upload = steps.getLast();
        assertThat(String.valueOf(upload.get("uses"))).startsWith("actions/upload-artifact@");
        assertThat(upload.get("if")).isEqualTo("always()");
        assertThat(map(upload.get("with"), "upload.with").get("path").toString()).contains(JUNIT);
    }

    // ---- GitLab CI ----

    @Test
    void gitlabIncludePreviewsMergeRequestsAndPublishesTheDefaultBranchWithTheSigningVariables() throws IOException {
        Map<String, Object> ci = yaml(GITLAB);
        assertThat(map(ci.get("variables"), "variables")).containsEntry("GIT_DEPTH", "0");

        Map<String, Object> base = map(ci.get(".kiln"), ".kiln");
        assertThat(base.get("stage")).isEqualTo("build");
        Map<String, Object> artifacts = map(base.get("artifacts"), ".kiln.artifacts");
        assertThat(artifacts.get("when")).isEqualTo("always");
        assertThat(map(artifacts.get("reports"), "artifacts.reports")).containsEntry("junit", JUNIT);
        assertThat(list(artifacts.get("paths"), "artifacts.paths")).contains(JUNIT);

        Map<String, Object> preview = map(ci.get("kiln-changed-packages"), "kiln-changed-packages");
        assertThat(preview.get("extends")).isEqualTo(".kiln");
        assertThat(preview.get("rules").toString()).contains("merge_request_event");
        assertThat(preview.get("script").toString()).contains("--changed-since \"$CI_MERGE_REQUEST_DIFF_BASE_SHA\"", "--no-publish");
        assertThat(preview).doesNotContainKey("variables");

        Map<String, Object> publish = map(ci.get("kiln-publish"), "kiln-publish");
        assertThat(publish.get("extends")).isEqualTo(".kiln");
        assertThat(publish.get("rules").toString()).contains("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH");
        assertThat(map(publish.get("variables"), "kiln-publish.variables"))
                .containsEntry("KILN_SIGNING_KEY", "$KILN_RELEASE_SIGNING_KEY")
                .containsEntry("KILN_SIGNING_PASSPHRASE", "$KILN_RELEASE_SIGNING_PASSPHRASE");
        assertThat(publish.get("script").toString()).contains("$CI_COMMIT_BEFORE_SHA", "--all").doesNotContain("--no-publish");
        assertThat(ci.keySet().stream().filter(k -> !k.startsWith(".") && !k.equals("variables")))
                .containsExactlyInAnyOrder("kiln-changed-packages", "kiln-publish");
    }

    // ---- Jenkins ----

    /** What the Jenkinsfile's AST holds: calls by method name with their first string argument, and assignments. */
    private static final class PipelineShape extends CodeVisitorSupport {
        final List<String> calls = new ArrayList<>();
        final Map<String, String> assignments = new LinkedHashMap<>();
        final List<String> junitResults = new ArrayList<>();

        @Override
        public void visitMethodCallExpression(MethodCallExpression call) {
            String name = call.getMethodAsString();
            String first = firstString(call.getArguments());
            calls.add(first == null ? name : name + " " + first);
            if ("junit".equals(name) && call.getArguments() instanceof TupleExpression args) {
                for (Expression arg : args.getExpressions()) {
                    if (arg instanceof MapExpression named) {
                        named.getMapEntryExpressions().stream()
                                .filter(e -> e.getKeyExpression().getText().equals("testResults"))
                                .forEach(e -> junitResults.add(e.getValueExpression().getText()));
                    }
                }
            }
            super.visitMethodCallExpression(call);
        }

        @Override
        public void visitBinaryExpression(BinaryExpression expression) {
            if (expression.getOperation().getText().equals("=") && expression.getLeftExpression() instanceof VariableExpression v
                    && expression.getRightExpression() instanceof MethodCallExpression call) {
                assignments.put(v.getName(), call.getMethodAsString() + " " + firstString(call.getArguments()));
            }
            super.visitBinaryExpression(expression);
        }

        private static String firstString(Expression arguments) {
            if (arguments instanceof ArgumentListExpression list && !list.getExpressions().isEmpty()
                    && list.getExpression(0) instanceof ConstantExpression c && c.getValue() instanceof String s) {
                return s;
            }
            return null;
        }
    }

    private static ModuleNode parseGroovy(String name, String text) {
        CompilationUnit unit = new CompilationUnit(new CompilerConfiguration());
        unit.addSource(name, text);
        unit.compile(Phases.CONVERSION);
        return unit.getAST().getModules().getFirst();
    }

    @Test
    void jenkinsfileIsValidGroovyWithPreviewAndPublishStagesAndTheJunitReport() throws IOException {
        ModuleNode module = parseGroovy("Jenkinsfile", Files.readString(JENKINS));
        PipelineShape shape = new PipelineShape();
        module.getStatementBlock().visit(shape);

        assertThat(shape.calls).contains("pipeline", "agent", "label kiln", "stages", "post", "always",
                "stage Full history", "stage Build changed packages", "stage Build, sign and publish",
                "changeRequest", "branch main");
        assertThat(shape.calls.stream().filter(c -> c.startsWith("stage "))).containsExactly(
                "stage Full history", "stage Build changed packages", "stage Build, sign and publish");
        assertThat(shape.assignments)
                .containsEntry("KILN_SIGNING_KEY", "credentials kiln-signing-key")
                .containsEntry("KILN_SIGNING_PASSPHRASE", "credentials kiln-signing-passphrase");
        assertThat(shape.junitResults).containsExactly(JUNIT);
        assertThat(Files.readString(JENKINS)).contains("git fetch --unshallow");
    }

    @Test
    void groovyParseRejectsABrokenJenkinsfile() {
        assertThatThrownBy(() -> parseGroovy("Jenkinsfile", "pipeline {\n  stages {\n    stage('x') { steps { sh 'true' }\n  }\n"))
                .isInstanceOf(CompilationFailedException.class);
    }

    @Test
    void jenkinsShellStepsStayPosix() throws IOException {
        // Jenkins runs sh steps with /bin/sh, dash on Debian and Ubuntu: no ${var//x/y}, ${var^^}, ${var:1}, [[ ]]
        Pattern bashOnly = Pattern.compile("\\$\\{[A-Za-z_][A-Za-z0-9_]*(/|\\^|,|:[0-9])|\\[\\[");
        assertThat(Files.readString(JENKINS).lines().filter(l -> bashOnly.matcher(l).find())).isEmpty();
    }
}
