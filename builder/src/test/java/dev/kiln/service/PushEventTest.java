package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Push payloads in the shapes GitHub's and GitLab's documentation give, and what each push builds. */
class PushEventTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static JsonNode sample(String name) throws IOException {
        try (InputStream in = PushEventTest.class.getResourceAsStream(name)) {
            return JSON.readTree(in);
        }
    }

    @Test
    void readsGitHubsPushPayload() throws IOException {
        PushEvent push = PushEvent.github(sample("github-push.json")).orElseThrow();
        assertThat(push).isEqualTo(new PushEvent("refs/heads/main", "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", false, "github:octocat"));
    }

    @Test
    void readsGitLabsPushHookPayload() throws IOException {
        PushEvent push = PushEvent.gitlab(sample("gitlab-push.json")).orElseThrow();
        assertThat(push).isEqualTo(new PushEvent("refs/heads/master", "95790bf891e76fee5e1747ab589903a6a1f80f22",
                "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", false, "gitlab:jsmith"));
    }

    @Test
    void aPushOfTheReleaseBranchPublishesWhatChangedSinceBefore() throws IOException {
        PushEvent push = PushEvent.github(sample("github-push.json")).orElseThrow();
        assertThat(push.plan("main")).isEqualTo(new PushEvent.Plan.Build("main", "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", ServiceBuild.Mode.PUBLISH));
        PushEvent gitlab = PushEvent.gitlab(sample("gitlab-push.json")).orElseThrow();
        assertThat(gitlab.plan("master")).isInstanceOf(PushEvent.Plan.Build.class)
                .extracting(p -> ((PushEvent.Plan.Build) p).mode()).isEqualTo(ServiceBuild.Mode.PUBLISH);
    }

    @Test
    void aPushOfAnotherBranchBuildsScratch() throws IOException {
        PushEvent push = PushEvent.github(sample("github-push.json")).orElseThrow();
        assertThat(push.plan("release/9")).isEqualTo(new PushEvent.Plan.Build("main", "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", ServiceBuild.Mode.SCRATCH));
    }

    @Test
    void aNewBranchBuildsWhatItChangedAgainstTheReleaseBranch() throws IOException {
        PushEvent push = PushEvent.gitlab(sample("gitlab-push-new-branch.json")).orElseThrow();
        assertThat(push.before()).isEqualTo(PushEvent.NO_COMMIT);
        assertThat(push.plan("master")).isEqualTo(new PushEvent.Plan.Build("jsmith/readme", "master",
                "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", ServiceBuild.Mode.SCRATCH));
        PushEvent first = new PushEvent("refs/heads/master", PushEvent.NO_COMMIT, push.after(), false, push.pusher());
        assertThat(first.plan("master")).as("the release branch's first push has nothing to compare with")
                .isInstanceOf(PushEvent.Plan.Nothing.class);
    }

    @Test
    void aDeletedBranchBuildsNothing() throws IOException {
        PushEvent github = PushEvent.github(sample("github-push-deleted.json")).orElseThrow();
        assertThat(github.deleted()).isTrue();
        assertThat(github.plan("main")).isEqualTo(new PushEvent.Plan.Nothing("branch pat/hello-fix was deleted"));
        PushEvent gitlab = PushEvent.gitlab(sample("gitlab-push-deleted.json")).orElseThrow();
        assertThat(gitlab.deleted()).as("GitLab tells it by after alone").isTrue();
        assertThat(gitlab.plan("master")).isEqualTo(new PushEvent.Plan.Nothing("branch jsmith/readme was deleted"));
        ObjectNode noCheckout = (ObjectNode) sample("gitlab-push-deleted.json");
        noCheckout.put("after", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
        assertThat(PushEvent.gitlab(noCheckout).orElseThrow().deleted()).as("checkout_sha null tells it too").isTrue();
    }

    @Test
    void aTagBuildsNothing() throws IOException {
        ObjectNode tag = (ObjectNode) sample("github-push.json");
        tag.put("ref", "refs/tags/v1.0");
        assertThat(PushEvent.github(tag).orElseThrow().plan("main")).isInstanceOf(PushEvent.Plan.Nothing.class)
                .extracting(p -> ((PushEvent.Plan.Nothing) p).reason()).asString().contains("refs/tags/v1.0 is not a branch");
    }

    @Test
    void refusesPayloadsWithoutCommitsOrWithAnOddPusher() throws IOException {
        for (String field : new String[] {"ref", "before", "after"}) {
            ObjectNode missing = (ObjectNode) sample("github-push.json");
            missing.remove(field);
            assertThat(PushEvent.github(missing)).as(field).isEmpty();
        }
        ObjectNode shortId = (ObjectNode) sample("gitlab-push.json");
        shortId.put("after", "da15608");
        assertThat(PushEvent.gitlab(shortId)).isEmpty();
        ObjectNode noUser = (ObjectNode) sample("gitlab-push.json");
        noUser.remove("user_username");
        assertThat(PushEvent.gitlab(noUser)).isEmpty();
        ObjectNode oddName = (ObjectNode) sample("github-push.json");
        ((ObjectNode) oddName.get("pusher")).put("name", "octo cat\nforged: line");
        assertThat(PushEvent.github(oddName)).isEqualTo(Optional.empty());
    }
}
