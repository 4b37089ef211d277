module github.com/pagoda-llm/pagoda

go 1.26
