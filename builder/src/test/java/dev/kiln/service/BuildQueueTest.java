package dev.kiln.service;

/** The build queue against a real embedded H2 database file. */
class BuildQueueTest extends BuildQueueCases {

    @Override
    protected ServiceDatabase open() {
        return ServiceDatabase.embedded(dir.resolve("service"));
    }
}
