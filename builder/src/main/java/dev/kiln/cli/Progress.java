package dev.kiln.cli;

import dev.kiln.pipeline.BuildListener;

/** Build progress on the terminal: stages and notices stamped with the elapsed time, the live log indented. */
final class Progress {

    private Progress() {
    }

    static BuildListener to(Output out) {
        return new BuildListener() {
            @Override
            public void stage(String name) {
                out.progress(name);
            }

            @Override
            public void notice(String message) {
                out.progress(message);
            }

            @Override
            public void log(String line) {
                out.log(line);
            }
        };
    }
}
