package dev.kiln.cli;

import dev.kiln.pipeline.Images;
import dev.kiln.config.KilnConfig;
import java.util.List;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** {@code kiln image bootstrap | build <builder> | list}. */
@Configuration(proxyBeanMethods = false)
class ImageCommands {

    @Bean
    KilnCommand imageBootstrap() {
        return new KilnCommand("image bootstrap", "Make the Debian base image locally with debootstrap (no registry needed)",
                "", 0, 0, List.of()) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                String id = new Images(config, out::progress, out::log).bootstrap();
                out.result("Base image " + id);
                return 0;
            }
        };
    }

    @Bean
    KilnCommand imageBuild() {
        return new KilnCommand("image build", "Build containers/<builder>/Dockerfile and pin it in its image.lock",
                "<builder>", 1, 1, List.of()) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                String name = invocation.arguments().get(0);
                var pinned = new Images(config, out::progress, out::log).buildAndPin(name);
                out.result("Pinned builder " + pinned.name() + " to " + pinned.imageId());
                out.result("  toolchain " + pinned.toolchainDigest());
                out.result("  wrote containers/" + pinned.name() + "/image.lock: commit it");
                return 0;
            }
        };
    }

    @Bean
    KilnCommand imageList() {
        return new KilnCommand("image list", "List builder images on this engine and whether they match their pin",
                "", 0, 0, List.of()) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                new Images(config, out::progress, out::log).list().forEach(out::result);
                return 0;
            }
        };
    }
}
