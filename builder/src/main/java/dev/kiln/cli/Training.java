package dev.kiln.cli;

import dev.kiln.config.ConfigLoader;
import dev.kiln.config.KilnConfig;
import dev.kiln.container.ContainerArchive;
import dev.kiln.container.DockerEngine;
import dev.kiln.git.DefinitionRepository;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.specfile.SpecDocument;
import dev.kiln.specfile.BuilderMacros;
import dev.kiln.specfile.EvaluatedSpec;
import dev.kiln.specfile.RpmOutput;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.packager.rpm.build.RpmBuilder;

/**
 * The launcher's one-time training run for the JDK's AOT cache ({@code KILN_AOT_TRAINING=1}):
 * exercises the code a build goes through (configuration, Git, spec reading, tar, OpenPGP,
 * JSON, a directory publish in a temporary folder, the engine API when an engine answers) without
 * changing anything, so later commands start with those classes already loaded and linked.
 */
final class Training {

    private Training() {
    }

    static void exercise(Path root) {
        try {
            KilnConfig config = ConfigLoader.load(root, System.getenv(), Map.of());
            try (DefinitionRepository git = DefinitionRepository.open(root)) {
                var snapshot = git.snapshot(null, List.of("specs"));
                for (Map.Entry<String, byte[]> f : git.files(snapshot, "specs").entrySet()) {
                    if (f.getKey().endsWith(".spec")) {
                        String text = new String(f.getValue(), StandardCharsets.UTF_8);
                        SpecDocument.parse(f.getKey(), text).render();
                    }
                }
            }
            // the path of a run whose specs are all in the evaluation cache
            SpecDocument written = SpecDocument.parse("specs/t/t.spec", "Name: t\nVersion: 1\nRelease: 1\nSource0: t.tar\n");
            EvaluatedSpec.read(written, new RpmOutput(0, written.render(), "N\tt\nE\t(none)\nV\t1\nR\t1\nS\tt.tar\n", ""), new BuilderMacros("b", "", java.util.Set.of()));
            ContainerArchive.pack(Map.of("training/file", new byte[64]));
            Path tmp = Files.createTempDirectory("kiln-training");
            try {
                SigningKey key = KeyGenerator.generate(tmp.resolve("key.asc"), tmp.resolve("key.asc.pub"), "training", new char[0]);
                key.detachedSignature("training".getBytes(StandardCharsets.UTF_8));
                publish(tmp, key);
            } finally {
                ContainerArchive.deleteTree(tmp);
            }
            DockerEngine.reachable(config.state(), line -> { }).ifPresent(engine -> {
                try (engine) {
                    engine.client().listImagesCmd().exec();
                }
            });
            Output.to(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()),
                    new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).json(Map.of("training", true));
        } catch (Exception | LinkageError e) {
            // A training run only warms up; whatever fails here will fail, and be reported, in a real command.
        }
    }

    /**
     * The path of {@code repo publish} into a directory: RPMs read, their signatures checked, a
     * first publish and an incremental one (the one every later publish takes), in {@code tmp}.
     */
    private static void publish(Path tmp, SigningKey key) throws java.io.IOException {
        RpmSigner signer = new RpmSigner(key);
        List<Path> rpms = new java.util.ArrayList<>();
        for (String name : List.of("training-a", "training-b")) {
            try (RpmBuilder builder = new RpmBuilder(name, "1", "1", "noarch", tmp)) {
                builder.getInformation().setSummary(name);
                builder.getInformation().setLicense("MIT");
                builder.newContext().addFile("/usr/share/" + name + "/" + name, new byte[16]);
                builder.build();
                signer.sign(builder.getTargetFile());
                signer.check(builder.getTargetFile());
                rpms.add(builder.getTargetFile());
            }
        }
        try (DirectoryRepository repository = new DirectoryRepository(tmp.resolve("repo"))) {
            for (Path rpm : rpms) {
                repository.publish(List.of(RpmFile.read(rpm).path()), key);
            }
            repository.list();
        }
    }
}
