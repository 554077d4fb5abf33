package dev.kiln.service;

/** The token store against a real embedded H2 database file. */
class TokenStoreTest extends TokenStoreCases {

    @Override
    protected ServiceDatabase open() {
        return ServiceDatabase.embedded(dir.resolve("service"));
    }

    @Override
    protected String storedBytes() throws Exception {
        return filesUnder(dir.resolve("service"));
    }
}
