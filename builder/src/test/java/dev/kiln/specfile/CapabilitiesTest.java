package dev.kiln.specfile;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CapabilitiesTest {

    @Test
    void reportsRequirementsTheImageDoesNotProvide() {
        Capabilities caps = Capabilities.of(Map.of("make", "", "gzip", "1.12", "/bin/sh", ""));
        List<EvaluatedSpec.Requirement> requires = List.of(
                new EvaluatedSpec.Requirement("make", ">=", "4.0", 3),
                new EvaluatedSpec.Requirement("gzip", ">=", "1.13", 4),
                new EvaluatedSpec.Requirement("gzip", "<", "2", 4),
                new EvaluatedSpec.Requirement("/bin/sh", "", "", 5),
                new EvaluatedSpec.Requirement("gcc", "", "", 6));
        assertThat(caps.unsatisfied(requires)).extracting(Object::toString).containsExactly("gzip >= 1.13", "gcc");
    }
}
