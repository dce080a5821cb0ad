package main

import (
	_ "github.com/Azure/azure-sdk-for-go/sdk/azcore"
	_ "github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	_ "github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	_ "github.com/Azure/azure-sdk-for-go/sdk/monitor/azquery"
	_ "github.com/slack-go/slack"
	_ "gopkg.in/yaml.v3"
)

func main() {}
